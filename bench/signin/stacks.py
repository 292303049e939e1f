"""Summarises a py-spy recording (`py-spy record --format raw`, as bench/signin/run.py --py-spy
writes it): inclusive samples of each function within the stacks that pass through FRAME.

usage: .venv/bin/python bench/signin/stacks.py RECORDING.txt [--within FRAME] [--per N] [--top 40] [--rate 1000]

FRAME is a substring of a frame, e.g. "password (idp/auth/views.py" for the password view; every
frame below it is counted once per sample (inclusive time), so a line reads "this much of the
view's time was spent in that call, including what it called".
"""

from __future__ import annotations

import argparse
import collections
import re

FRAME = re.compile(r"^(?P<name>.*?) \((?P<where>[^()]*?)(?::\d+)?\)$")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recording")
    parser.add_argument("--within", default="", help="only stacks through this frame; count from it down")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--rate", type=int, default=1000, help="samples per second of the recording")
    parser.add_argument("--depth", type=int, default=0, help="only frames at most this far below --within")
    parser.add_argument("--per", type=int, default=1, help="divide by this many requests (ms per request)")
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    with open(args.recording) as fh:
        for line in fh:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            count = int(count_text)
            frames = stack.split(";")[1:]  # the first is the thread
            if args.within:
                starts = [i for i, f in enumerate(frames) if args.within in f]
                if not starts:
                    continue
                frames = frames[starts[0]:]
            total += count
            seen = set()
            for depth, frame in enumerate(frames):
                m = FRAME.match(frame)
                name = f"{m.group('name')} ({m.group('where')})" if m else frame
                if args.depth and depth > args.depth:
                    break
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += count
            if frames:
                m = FRAME.match(frames[-1])
                own[f"{m.group('name')} ({m.group('where')})" if m else frames[-1]] += count
    ms = 1000 / args.rate / args.per
    per = f" per request (/{args.per})" if args.per > 1 else ""
    print(f"{total} samples, {total * ms:.1f} ms{per}{' through ' + args.within if args.within else ''}\n")
    print("| inclusive ms | share | function |\n|---:|---:|---|")
    for name, count in inclusive.most_common(args.top):
        print(f"| {count * ms:.2f} | {count / max(total, 1):.0%} | {name} |")
    print("\n| own ms | share | function |\n|---:|---:|---|")
    for name, count in own.most_common(args.top // 2):
        print(f"| {count * ms:.2f} | {count / max(total, 1):.0%} | {name} |")


if __name__ == "__main__":
    main()
