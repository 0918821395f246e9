"""Questions and messages the export and movie dialogs share: never replace a file unasked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

ERROR_HEX = "#b35900"


def replace_files(parent: QWidget, existing: list[Path]) -> bool:
    """Ask whether to replace ``existing`` (at least one path); No is the default answer."""
    first = existing[0]
    if len(existing) == 1:
        title, text = "Replace file?", f"{first.name} already exists in {first.parent}. Replace it?"
    else:
        more = f" and {len(existing) - 1} more"
        title, text = "Replace files?", f"{first.name}{more} already exist in {first.parent}. Replace them?"
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def error_html(message: str) -> str:
    """A one-line problem in a dialog's status line."""
    return f"<span style='color:{ERROR_HEX}'>{message}</span>"
