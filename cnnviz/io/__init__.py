"""Reading sources: images (Pillow), video and live cameras (PyAV). No Qt here."""
