"""The built-in Sigma rule pack (data only): ``builtin/<tactic>/<name>.yml`` + ``<name>.tests.yml``.

Conventions (checked by ``tests/unit/rules/test_builtin_pack.py``):

- standard Sigma, ``logsource: {product: aws, service: cloudtrail}``, fixed UUID ``id``,
  ``name: cspm_<file stem>``, MITRE tags ``attack.<tactic>`` and ``attack.tNNNN[.NNN]``,
  ``level``, ``falsepositives`` and a one-line custom ``runbook``;
- a correlation file holds its input rules first (``generate: false`` in the
  correlation, level informational) and the correlation rule last; its tests name the
  correlation and give ``detections: <n>``;
- every tests file names the rule by id and has at least one ``match`` and one
  ``no_match`` test with CloudTrail records as AWS writes them.

Field semantics are the engine's (:mod:`cspm_stream.detect.fields`); where Sigma cannot
express a check exactly (comparing two list elements, own vs foreign account inside a
policy document) the rule's description says how it approximates.
"""
