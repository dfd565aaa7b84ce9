"""The model: lavaan syntax -> statements -> :class:`~acsi_sem.model.spec.ModelSpec`.

``syntax`` parses text into statements, ``spec`` builds lavaan's parameter table from them,
``groups`` stacks it for several groups, ``ram`` turns it into RAM matrices and ``modelfile``
reads model files (their header, default data and the shipped models).
"""
