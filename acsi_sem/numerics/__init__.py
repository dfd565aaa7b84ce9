"""Numerical estimation on matrices and moments: ML, FIML, WLSMV and PLS discrepancies, their
derivatives, the optimisers and the batched (many-replicate) versions. No data files, no
results: the estimator families in :mod:`acsi_sem.estimators` call these."""
