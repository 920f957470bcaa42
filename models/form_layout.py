"""Saved layouts of tabbed admin forms: one row per form and owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Base
from models.base import UTCDateTime

FORM_ID_MAX = 40


class SavedFormLayout(Base):
    """A form layout saved by a person for themselves, or (owner empty) as everyone's default."""

    __tablename__ = "form_layouts"
    __table_args__ = (
        UniqueConstraint("form_id", "owner_id", name="uq_form_layouts_form_id_owner_id"),
        # NULLs never collide in a unique constraint: this index keeps one default per form.
        Index(
            "uq_form_layouts_default",
            "form_id",
            unique=True,
            sqlite_where=text("owner_id IS NULL"),
            postgresql_where=text("owner_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(FORM_ID_MAX))
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The layout document as JSON text: what it shows and hides, in which order, under
    # which labels. It is validated each time it is read, never trusted.
    layout: Mapped[str] = mapped_column(Text)
    # "Disable custom form settings" keeps a personal layout but stops applying it.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
