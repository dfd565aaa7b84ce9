"""From checked data to a FitResult, one module per estimator family."""
