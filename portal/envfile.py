"""Write a .env from .env.example with fresh keys: ``python -m portal.envfile .env``.

Runs before Django is configured, so it uses nothing but the standard library and
cryptography. An existing file is left alone.
"""
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet


def render(example: str) -> str:
    generated = {"SECRET_KEY": secrets.token_urlsafe(50), "CREDENTIALS_KEYS": Fernet.generate_key().decode()}
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={generated[name]}" if name in generated and not line.startswith("#") else line)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[1] if len(argv) > 1 else ".env")
    if target.exists():
        return 0
    example = Path(__file__).resolve().parent.parent / ".env.example"
    target.write_text(render(example.read_text()))
    target.chmod(0o600)
    print(f"Wrote {target} with fresh keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
