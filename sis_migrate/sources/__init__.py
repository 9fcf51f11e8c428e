"""The legacy sources as the pipeline reads them: live catalog, SQL extract queries, Verify exports."""
