# Sourced by scripts/run and scripts/test: make .venv with cnnviz and its test tools.
# Idempotent: a second run only checks a stamp and takes about a second.
#
# torch comes first, pinned, because an unpinned torch pulls several GB of CUDA packages.
#   CNNVIZ_TORCH="torch==2.13.0"  what to install when the venv has no torch (the default)
#   CNNVIZ_KEEP_TORCH=1           never install or change torch (bring your own CUDA build;
#                                 with CNNVIZ_SYSTEM_SITE=1 the venv sees system packages)
#   CNNVIZ_PYTHON=python3.12      the interpreter for the venv (>= 3.11)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.cnnviz-installed"

_cnnviz_setup() {
    local want
    want="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/_env.sh" | cksum | cut -d' ' -f1)"
    if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
        return 0
    fi
    local base="${CNNVIZ_PYTHON:-python3}"
    if ! command -v "$base" >/dev/null 2>&1; then
        echo "cnnviz: needs Python >= 3.11 ($base not found; set CNNVIZ_PYTHON)" >&2; exit 1
    fi
    if ! "$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "cnnviz: needs Python >= 3.11, $base is $("$base" -V 2>&1) (set CNNVIZ_PYTHON)" >&2; exit 1
    fi
    if [ ! -x "$PY" ]; then
        echo "cnnviz: creating $VENV (first run only)" >&2
        if [ "${CNNVIZ_SYSTEM_SITE:-0}" = 1 ]; then
            "$base" -m venv --system-site-packages "$VENV"
        else
            "$base" -m venv "$VENV"
        fi
    fi
    local pipq=(-q --disable-pip-version-check)
    if [ "${CNNVIZ_KEEP_TORCH:-0}" != 1 ] && ! "$PY" -c 'import torch' >/dev/null 2>&1; then
        echo "cnnviz: installing ${CNNVIZ_TORCH:-torch==2.13.0} (CPU build unless you chose another)" >&2
        "$PY" -m pip install "${pipq[@]}" "${CNNVIZ_TORCH:-torch==2.13.0}"
    fi
    echo "cnnviz: installing cnnviz and its dependencies into .venv" >&2
    "$PY" -m pip install "${pipq[@]}" -e "$ROOT[test]"
    echo "$want" > "$STAMP"
}
_cnnviz_setup
