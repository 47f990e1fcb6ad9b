#!/usr/bin/env python3
"""Who owns a gateway's CPU, from a JFR recording (not a test).

Each jdk.ExecutionSample is charged to the first frame, walking from the leaf, that is not the JDK,
Jackson or jtokkit (libraries our code calls): tokenbudget's share is the samples charged to
dev.tokenbudget. With the number of requests served while recording, heap allocated per request is
estimated from jdk.GCHeapSummary (heap before each GC minus heap after the previous one).

    bench/jfr-owners.py RECORDING.jfr [REQUESTS] [TOP]
"""
import collections
import json
import subprocess
import sys

LIBRARIES = ('java.', 'jdk.', 'sun.', 'com.fasterxml.', 'com.knuddels.')


def events(recording, kind):
    out = subprocess.check_output(['jfr', 'print', '--json', '--events', kind, recording])
    return json.loads(out)['recording']['events']


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    recording = sys.argv[1]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    owners = collections.Counter()
    ours = collections.Counter()
    total = 0
    for e in events(recording, 'jdk.ExecutionSample'):
        stack = e['values'].get('stackTrace')
        if not stack or not stack['frames']:
            continue
        total += 1
        frames = [(f['method']['type']['name'] + '.' + f['method']['name']).replace('/', '.')
                  for f in stack['frames']]
        owner = next((f for f in frames if not f.startswith(LIBRARIES)), 'library-only')
        owners['.'.join(owner.split('.')[:2])] += 1
        if owner.startswith('dev.tokenbudget'):
            ours[owner.split('$$')[0]] += 1
    if total == 0:
        sys.exit('no execution samples in ' + recording)
    print(f'{recording}: {total} samples, tokenbudget-owned {100 * sum(ours.values()) / total:.1f}%')
    for name, n in owners.most_common(8):
        print(f'  {100 * n / total:5.1f}% {name}')
    print('  tokenbudget frames:')
    for name, n in ours.most_common(top):
        print(f'  {100 * n / total:5.1f}% {name}')
    if requests > 0:
        heap = sorted(events(recording, 'jdk.GCHeapSummary'), key=lambda e: (e['values']['gcId'], e['values']['when']))
        allocated, after = 0, None
        for e in heap:
            v = e['values']
            if v['when'] == 'Before GC':
                allocated += v['heapUsed'] - after if after is not None else 0
            else:
                after = v['heapUsed']
        print(f'heap allocated {allocated / 1e6:.0f} MB over {requests} requests: {allocated / requests / 1024:.1f} KiB per request')


if __name__ == '__main__':
    main()
