"""Survey data in and results out: reading and checking data files (``prepare``), the
sufficient statistics of files too large for memory (``moments``), and writing output files
without losing what was there (``files``)."""
