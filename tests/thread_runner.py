"""``run_threads``: the tests' way to run functions on threads of their own."""

import threading


def run_threads(fns):
    """Run each fn in its own thread, wait for all, and re-raise the first failure here."""
    errors = []

    def wrap(fn):
        def target():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 (reported in the main thread)
                errors.append(e)
        return target

    threads = [threading.Thread(target=wrap(f)) for f in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
