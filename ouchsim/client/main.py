def main() -> None:
    raise SystemExit("ouch-client: not built yet")
