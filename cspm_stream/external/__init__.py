"""External findings: GuardDuty, Security Hub (and what Inspector and Macie send there), IAM Access Analyzer.

One problem, one alert. The pieces, pure core first:

- :mod:`.model`: :class:`~cspm_stream.external.model.ExternalFinding` (``external-finding.v1``), the
  normalised form every source produces, and :class:`~cspm_stream.external.model.OurDetection`
  (``external-ours.v1``), our own detection re-keyed for the join;
- :mod:`.asff`, :mod:`.guardduty`, :mod:`.accessanalyzer`: raw AWS findings (API responses or
  EventBridge events) → :class:`ExternalFinding` (pure, hostile-input safe);
- :mod:`.mapping` (+ ``mapping.yaml``): what counts as "the same issue": a Security Hub control id and
  the policy whose ``related.securityhub`` lists it (exact equivalents only), a GuardDuty finding type
  and our rule ids;
- :mod:`.ocsf`: the OCSF records (2003 for posture-like findings, 2004 for threat findings) and the
  list of sources a finding carries;
- :mod:`.threats`: the join of threat findings with our detections (the ``external`` stage);
  :mod:`.posture_join`: the join of posture-like findings with our checks (inside the posture stage);
- :mod:`.pollers`, :mod:`.events`, :mod:`.service`: the adapters (polling with checkpoints in a
  compacted topic, EventBridge → SQS) run by the ingest role.
"""
