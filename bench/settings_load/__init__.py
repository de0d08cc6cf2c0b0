"""Settings load: pydantic (the loader's validator) vs msgspec on the same schema. See ``__main__``."""
