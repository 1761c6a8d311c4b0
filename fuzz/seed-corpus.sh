#!/usr/bin/env bash
# Seeds every target's corpus with the test fixtures (and, for `forms`, the
# fixtures' inflated envelopes are reached through its wrapping). The 40 MiB
# gzip bomb of bad-records.json is left out: it slows every run to a crawl.
set -euo pipefail
cd "$(dirname "$0")"
for target in core forms component fluent_bit; do
    mkdir -p "corpus/$target"
    for fixture in ../tests/fixtures/*; do
        case "$fixture" in *.expected.ndjson|*.options.json|*.py|*/bad-records.json) continue ;; esac
        # The targets read an options byte first (fluent_bit reads none;
        # forms then reads a form byte: 0, the payload as is).
        if [ "$target" = fluent_bit ]; then
            cp "$fixture" "corpus/$target/$(basename "$fixture")"
        elif [ "$target" = forms ]; then
            { printf '\0\0'; cat "$fixture"; } > "corpus/$target/$(basename "$fixture")"
        else
            { printf '\0'; cat "$fixture"; } > "corpus/$target/$(basename "$fixture")"
        fi
    done
done
