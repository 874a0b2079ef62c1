"""What the contract says a response holds and how a script signs a request, written once for
every test that reads the API (docs/contract.md)."""

from __future__ import annotations

#: The Share object, as part 1 lists it.
SHARE_KEYS = {
    "id", "profile_id", "source_type", "source_id", "handle", "code", "timezone", "period",
    "period_type", "absolute_expiry", "expires_at", "quantity", "remaining_quantity", "meta",
    "is_cloneable", "source", "created_at", "updated_at",
}  # fmt: skip
#: The ShareClaim object (part 1: Claim, and part 2's share_handle).
CLAIM_KEYS = {
    "id", "share_id", "share_handle", "share_profile_id", "profile_id", "claimed_at",
    "created_source_type", "created_source_id", "is_cloned", "meta", "created_at", "updated_at",
}  # fmt: skip


def bearer(token: str, **headers: str) -> dict[str, str]:
    """The headers of a request signed with API ``token``, and any others given."""
    return {"Authorization": f"Bearer {token}", **headers}
