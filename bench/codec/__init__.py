"""Codec: decoding activity and inventory records with msgspec, pydantic and the previous codec. See ``__main__``."""
