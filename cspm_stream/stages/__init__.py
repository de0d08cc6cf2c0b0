"""Stream stages: pure handlers (this package's ``base`` contract) wired into faust by ``app``."""
