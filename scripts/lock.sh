#!/usr/bin/env bash
# Refresh constraints.txt: resolve the project's extras afresh in a throw-away venv (the newest releases the
# registries serve that install together) and pin what got installed. Then run the README's test command with
# the new pins, and commit constraints.txt with what changed. torch keeps the version pyproject.toml pins; its
# local tag (+cpu) is dropped so the pin matches the CPU wheel and PyPI's build alike.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q -e ".[train,test]"
{
    sed -n '/^#/p' constraints.txt
    "$venv/bin/pip" freeze --all --exclude-editable | grep -v -E '^(pip|gan-sampling-service)==' | sed -E 's/\+[A-Za-z0-9.]+$//'
} >constraints.txt.new
mv constraints.txt.new constraints.txt
