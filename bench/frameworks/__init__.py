"""Framework-file tooling: the agreement of our policy mappings with Prowler's
(``python -m bench.frameworks.compare``), the NIST SP 800-53 requirement list generated
from NIST's OSCAL catalog (``python -m bench.frameworks.nist``) and the one YAML layout the
framework files are written in (:mod:`bench.frameworks.fwyaml`)."""
