"""Reading sources: images (Pillow) and video (PyAV). No Qt here."""
