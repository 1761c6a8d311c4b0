#!/usr/bin/env bash
# Seeds every target's corpus with the test fixtures (and, for `forms`, the
# fixtures' inflated envelopes are reached through its wrapping).
set -euo pipefail
cd "$(dirname "$0")"
for target in core forms component fluent_bit; do
    mkdir -p "corpus/$target"
    for fixture in ../tests/fixtures/*; do
        case "$fixture" in *.expected.ndjson|*.options.json|*.py) continue ;; esac
        # The targets read an options byte first (fluent_bit reads none).
        if [ "$target" = fluent_bit ]; then
            cp "$fixture" "corpus/$target/$(basename "$fixture")"
        else
            { printf '\0'; cat "$fixture"; } > "corpus/$target/$(basename "$fixture")"
        fi
    done
done
