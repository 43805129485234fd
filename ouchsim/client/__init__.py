"""ouch-client: a SoupBinTCP OUCH client for scripts and for people.

- `script`: load and check a JSON script (spec/client-script.md plus `account`/`accounts`).
- `expect`: compare replies with an action's `expect` block (`$variables`, per-account order).
- `render`: replies as readable lines or JSON lines.
- `connection`: one SoupBinTCP connection per account, logged in and out together.
- `runner`: the replies of all accounts, bounded waits, the script runner.
- `interactive`: the field-by-field prompt; `keyboard`: stdin lines as Deferreds.
- `main`: the `ouch-client` command line.
"""
