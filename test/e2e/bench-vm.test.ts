// bench/vm.ts turns the guest's result lines into bench results: which
// variant wins, the ratio against plain and the 2x target.
import assert from 'node:assert/strict';
import { benchResults } from '../../bench/vm.js';

const guest = (httpsRates: Record<string, number>) => [
  { scenario: 'bench-read', pass: true, imageMiB: 64, nbdReadMiBps: 100, usbReadMiBps: 25 },
  {
    scenario: 'bench-mount', pass: true,
    fileNbdReadyMs: 500, fileGadgetBoundMs: 900, fileUsbDiskVisibleMs: 3700,
    httpsNbdReadyMs: 4000, httpsGadgetBoundMs: 4500, httpsUsbDiskVisibleMs: 6800,
  },
  {
    scenario: 'bench-https', pass: true, imageMiB: 32, latency: 'netem',
    ...Object.fromEntries(Object.entries(httpsRates).flatMap(([k, v]) => [[`${k}MiBps`, v], [`${k}HttpRequests`, 7]])),
  },
];

describe('bench/vm: results from the guest', function () {
  it('reports raw nbd vs USB disk, the script mount baseline and the winning HTTPS variant', function () {
    const results = benchResults(guest({ plain: 1.2, readahead: 1.3, cache4M: 3.4, readahead_cache4M: 2.8 }));
    const byName = new Map(results.map((r) => [r.name, r]));
    assert.equal(byName.get('vm.read.usb_disk')?.ratio, 0.25);
    assert.equal(byName.get('vm.script_mount.https.usb_disk_visible')?.value, 6800);
    const best = byName.get('vm.https.best_vs_plain');
    assert.equal(best?.value, 2.83);
    assert.equal(best?.pass, true);
    assert.match(String(best?.note), /best: cache4M = nbdkit --filter=cache curl cache-min-block-size=4M/);
  });

  it('compares the daemon Mount latency with the by-hand script (target <= 1.2x)', function () {
    const lines = [...guest({ plain: 1 }), { scenario: 'daemon-mount-latency', pass: true, mountToCompletionMs: 2000, mountToUsbDiskMs: 9000 }];
    const byName = new Map(benchResults(lines).map((r) => [r.name, r]));
    assert.equal(byName.get('vm.daemon_mount.https.completion')?.ratio, 0.29);
    assert.equal(byName.get('vm.daemon_mount.https.completion')?.pass, true);
    assert.equal(byName.get('vm.daemon_mount.https.usb_disk_visible')?.pass, false);
  });

  it('compares the daemon start under systemd with a bare node -e (target <= 1.5x) and reports its RSS', function () {
    const footprint = { scenario: 'daemon-footprint', pass: true, startToNameMs: 6000, bareNodeStartMs: 3000, rssKiB4MountPoints: 51_200 };
    const byName = new Map(benchResults([...guest({ plain: 1 }), footprint]).map((r) => [r.name, r]));
    assert.equal(byName.get('vm.daemon_start.systemd_to_name')?.ratio, 2);
    assert.equal(byName.get('vm.daemon_start.systemd_to_name')?.pass, false);
    assert.equal(byName.get('vm.daemon_rss.4_mount_points')?.value, 50);
    const fast = new Map(benchResults([...guest({ plain: 1 }), { ...footprint, startToNameMs: 4000 }]).map((r) => [r.name, r]));
    assert.equal(fast.get('vm.daemon_start.systemd_to_name')?.pass, true);
  });

  it('fails the 2x target when no filter helps enough', function () {
    const best = benchResults(guest({ plain: 2, readahead: 2.1, cache4M: 3.9 })).find((r) => r.name === 'vm.https.best_vs_plain');
    assert.equal(best?.pass, false);
  });

  it('refuses a missing or failed scenario instead of reporting zeros', function () {
    const lines = guest({ plain: 1 });
    assert.throws(() => benchResults(lines.slice(1)), /no result for bench-read/);
    lines[2] = { scenario: 'bench-https', pass: false, reason: 'step failed: variant plain' } as never;
    assert.throws(() => benchResults(lines), /bench-https failed: step failed: variant plain/);
  });
});
