"""Reading sources: images (Pillow), video and camera (PyAV). No Qt here."""
