"""Periodic work, run by `forever jobs run` (e.g. every few minutes from cron or a systemd timer).

Each job is safe to run again at any time and from several processes: every change happens under the same
locks as the requests'.
"""

from __future__ import annotations

from forever.accounts import privacy
from forever.accounts import service as accounts
from forever.grading import service as grading
from forever.idempotency import service as idempotency
from forever.listings import orders as shop_orders
from forever.listings import service as listings
from forever.vouchers import service as vouchers


async def run_jobs() -> dict[str, int]:
    """Run every job once; returns what each did."""
    return {
        # Holds first: what a lapsed hold gives back to an expired voucher then expires with it.
        "holds_lapsed": await vouchers.lapse_holds(),
        "vouchers_expired": await vouchers.expire_vouchers(),
        "expiry_reminders_sent": await vouchers.send_expiry_reminders(),
        "voucher_misses_pruned": await vouchers.prune_misses(),
        "idempotency_keys_purged": await idempotency.purge(),
        "expired_tokens_and_reset_links_purged": await accounts.purge_expired_credentials(),
        "old_sign_in_attempts_pruned": await accounts.prune_attempts(),
        # Photo files of uploads a crash cut short, once too old to be an upload under way.
        "photo_files_swept": await grading.sweep_photo_files(),
        # Silence for 14 days accepts a counter-offer: the piece is credited at its amount.
        "counter_offers_lapsed": await grading.lapse_counter_offers(),
        # After the counter-offers: a piece credited just now is stocked in the same run.
        "pieces_stocked": await listings.stock_credited_pieces(),
        "reservations_released": await shop_orders.release_lapsed_reservations(),
        # The privacy policy's retention periods: dormant accounts, old orders, old privacy requests.
        "privacy_retention_actions": len((await privacy.retention()).actions),
    }
