"""Stream stages: pure handlers (this package's ``base`` contract), each built by the ``build_stage(ctx)``
factory at the bottom of its module and driven by the batch loop (:mod:`cspm_stream.batchloop`)."""
