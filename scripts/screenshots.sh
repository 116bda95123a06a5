#!/usr/bin/env bash
# Re-creates docs/screenshots/*.png from the real binary running in the sandbox:
# tmux runs it, `capture-pane -e` takes the screen with its colours, scripts/ansi2html.py turns
# that into HTML, and headless Chromium renders the PNG. Re-run whenever a view changes.
#
# Needs root (the sandbox makes network namespaces) and:
#   apt-get install tmux python3 chromium fonts-dejavu-core dnsmasq-base nftables busybox
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
BIN=$PWD/target/release/switchyard
OUT=$PWD/docs/screenshots
COLS=120
ROWS=34
TMP=$(mktemp -d)
SESSION="sy-shots-$$"
mkdir -p "$OUT"

cleanup() {
    if tmux has-session -t "$SESSION" 2>/dev/null; then
        tmux send-keys -t "$SESSION" q
        for _ in $(seq 50); do tmux has-session -t "$SESSION" 2>/dev/null || break; sleep 0.2; done
        tmux kill-session -t "$SESSION" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_for() {
    for _ in $(seq 150); do
        if tmux capture-pane -p -t "$SESSION" | grep -q -- "$1"; then return 0; fi
        sleep 0.2
    done
    echo "timed out waiting for: $1" >&2
    tmux capture-pane -p -t "$SESSION" >&2
    exit 1
}

keys() { tmux send-keys -t "$SESSION" "$@"; sleep 0.6; }

shot() {
    local name=$1
    tmux capture-pane -e -p -t "$SESSION" > "$TMP/$name.ansi"
    python3 scripts/ansi2html.py "switchyard: $name" < "$TMP/$name.ansi" > "$TMP/$name.html"
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$TMP/chrome" --hide-scrollbars \
        --window-size="$((COLS * 9 + 24)),$((ROWS * 18 + 22))" \
        --screenshot="$OUT/$name.png" "file://$TMP/$name.html" 2>/dev/null
    echo "wrote $OUT/$name.png"
}

# A shell that stays after the sandbox exits, so its messages can be read on failure.
tmux new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" "$BIN sandbox; sleep 5"
wait_for "Networks ("
sleep 6 # let rates and sparklines fill in
shot networks
keys 2
wait_for "Ports ("
sleep 2
shot ports
keys 3
wait_for "DHCP leases"
shot leases
keys 4
sleep 1
shot host
keys 6
wait_for "Port forwards ("
sleep 3 # two readings of the forwards' counters: the hit rate shows
shot forwards
keys 1
keys n
wait_for "step 1 of 4"
keys w e b
keys Enter
keys Enter
keys Enter
wait_for "Plan of the start"
shot wizard-review
keys Escape
keys Escape
keys Escape
keys Escape
keys ?
sleep 0.5
shot help
keys Escape
keys 1
keys Home
keys Down
keys w
wait_for "what to trace"
keys 1 9 8 . 5 1 . 1 0 0 . 1 : 4 4 3
keys Enter
wait_for "Path (hook"
shot why
keys Escape
