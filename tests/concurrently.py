"""Run the same work in many threads at once, as tills, neighbours or staff racing each other."""

import threading

from app.database import write_transaction
from app.extensions import db
from app.services.errors import DomainError


def run_together(app, count, work) -> list:
    """Run `work(i)` for i in range(count) in threads released together by a barrier.

    Each thread has its own app context, so its own session and connection, and runs `work` in
    one write transaction, as an edge does. A result is what `work` returned, its transaction
    committed, or the code of the `DomainError` it raised, its transaction rolled back.
    """
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(i):
        with app.app_context():
            barrier.wait()
            try:
                with write_transaction(db.session):
                    results[i] = work(i)
            except DomainError as refusal:
                results[i] = refusal.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
