"""The legacy sources as the pipeline reads them: live catalog (``catalog``), relational reads
(``sql``: query and streamed read-only rows), Verify exports (``verify``), and the typing and
tier-2 scrub every extracted chunk passes before it is staged (``arrow``)."""
