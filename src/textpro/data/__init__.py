"""Data: speech synthesis, manifests, benchmark tasks."""
