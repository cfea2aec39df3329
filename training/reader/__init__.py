"""Training the reader (``python -m training.reader``): data, features, the loop, evaluation."""
