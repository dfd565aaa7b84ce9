"""Customer-satisfaction index studies: many companies, sampling weights, revenue-weighted
industry, sector and national indices, and change between waves.

    design (TOML) / columns -> design.py (survey in company-by-wave cells) -> revenue.py
    -> aggregate.py (units and their weights) -> estimate.py (all numbers from cell sums)
    -> bootstrap.py (stratified, batched, seeded) -> tables.py -> result.py (StudyResult)

:func:`acsi_sem.study` (in :mod:`acsi_sem.studies.run`) drives it.
"""
