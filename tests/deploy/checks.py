"""checks.py - what the deployment checks share: failures are recorded, not raised, and reported once at the end."""

failures = []


def check(cond, what):
    """Records what as a failure unless cond holds; returns cond."""
    if not cond:
        failures.append(what)
    return cond


def report(name):
    """Prints every failure and a summary line; returns the exit status."""
    for f in failures:
        print("FAIL:", f)
    print(f"{name}: {len(failures)} failures")
    return 1 if failures else 0
