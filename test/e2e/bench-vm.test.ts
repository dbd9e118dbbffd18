// bench/vm.ts turns the guest's result lines into bench results: which
// variant wins, the ratio against plain and the 2x target.
import assert from 'node:assert/strict';
import { benchResults, wanResults } from '../../bench/vm.js';

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

describe('bench/vm: WAN streaming rows', function () {
  const link = (l: string, delayMs: number, rate: string, rtt: number) => ({
    [`${l}DelayMs`]: delayMs, [`${l}Rate`]: rate, [`${l}RttMs`]: rtt, [`${l}ReadAheadKb`]: 8192, [`${l}MaxSectorsKb`]: 8192,
  });
  const reads = (l: string, nbd: number, usb: number, randomMs: number) => ({
    [`${l}NbdMiBps`]: nbd, [`${l}NbdRounds`]: [nbd], [`${l}UsbMiBps`]: usb, [`${l}UsbRounds`]: [usb], [`${l}RandomMedianMs`]: randomMs, [`${l}RandomMs`]: [randomMs],
  });
  const lines = [
    { scenario: 'daemon-wan-default', pass: true, variant: 'default', imageMiB: 32, ...link('wan100', 50, '100mbit', 100), ...reads('wan100', 10.5, 6, 120), ...link('rtt40', 20, 'none', 40), ...reads('rtt40', 20, 8, 50) },
    { scenario: 'daemon-wan-plain', pass: true, variant: 'plain', imageMiB: 32, ...link('rtt40', 20, 'none', 40), ...reads('rtt40', 2.5, 2.5, 45) },
    { scenario: 'daemon-wan-cache', pass: true, variant: 'cache', imageMiB: 32, cacheCapMiB: 64, ...link('wan100', 50, '100mbit', 100), ...reads('wan100', 9, 5, 700), wan100CachePeakMiB: 32, ...link('rtt40', 20, 'none', 40), ...reads('rtt40', 15, 7, 300), rtt40CachePeakMiB: 65 },
  ];

  it('rates the default against the link (100 Mbit/s = 11.92 MiB/s), the bare plugin, round trips and the cache cap', function () {
    const byName = new Map(wanResults(lines).map((r) => [r.name, r]));
    const nbd = byName.get('vm.wan.default.wan100.nbd.link_fraction');
    assert.equal(nbd?.value, 0.88);
    assert.equal(nbd?.pass, true);
    assert.equal(byName.get('vm.wan.default.wan100.usb_disk.link_fraction')?.pass, false, '6 MiB/s is half the link');
    assert.equal(byName.get('vm.wan.default.rtt40.nbd.vs_plain')?.ratio, 8);
    assert.equal(byName.get('vm.wan.default.rtt40.usb_disk.vs_plain')?.pass, false, '8 / 2.5 = 3.2 < 4');
    assert.equal(byName.get('vm.wan.default.wan100.random_4k')?.value, 1.2);
    assert.equal(byName.get('vm.wan.default.wan100.random_4k')?.pass, true);
    assert.equal(byName.get('vm.wan.cache.wan100.random_4k')?.pass, false, '7 round trips for a random read');
    assert.equal(byName.get('vm.wan.cache.wan100.peak')?.pass, true);
    assert.equal(byName.get('vm.wan.cache.rtt40.peak')?.pass, false, '65 MiB past a 64 MiB cap');
  });

  it('a link the VM\'s CPU cannot fill is information; its slow-motion twin (6250 kbit/s) keeps the target', function () {
    const slow = [
      { ...lines[0], ...link('local', 0, 'none', 1), ...reads('local', 2, 1, 20), ...link('wan100slow', 800, '6250kbit', 1600), ...reads('wan100slow', 0.7, 0.5, 1700), ...link('rtt40slow', 320, 'none', 640), ...reads('rtt40slow', 1.6, 0.9, 700) },
      { ...lines[1], ...link('rtt40slow', 320, 'none', 640), ...reads('rtt40slow', 0.3, 0.2, 650) },
    ];
    const byName = new Map(wanResults(slow).map((r) => [r.name, r]));
    const fast = byName.get('vm.wan.default.wan100.nbd.link_fraction');
    assert.equal(fast?.target, undefined, 'a 2 MiB/s ceiling cannot show 0.8 of 11.92 MiB/s');
    assert.match(fast?.note ?? '', /no target: this VM's CPU carries at most 2 MiB\/s/);
    const fraction = byName.get('vm.wan.default.wan100slow.nbd.link_fraction');
    assert.equal(fraction?.baseline, 0.75);
    assert.equal(fraction?.pass, true, '0.7 of 0.745 MiB/s');
    assert.equal(byName.get('vm.wan.default.wan100slow.usb_disk.link_fraction')?.pass, false, '0.5 of 0.745 MiB/s is 0.67');
    assert.equal(byName.get('vm.wan.default.rtt40.usb_disk.vs_plain')?.target, undefined, 'a 1 MiB/s USB ceiling cannot be 4x 2.5 MiB/s');
    assert.equal(byName.get('vm.wan.default.rtt40slow.nbd.vs_plain')?.pass, true, '1.6 / 0.3');
    assert.equal(byName.get('vm.wan.default.rtt40slow.usb_disk.vs_plain')?.pass, true, '0.9 / 0.2');
    assert.equal(byName.get('vm.wan.default.wan100slow.random_4k')?.pass, true);
  });

  it('judges a read by the rate it sustains (the link carrying its second half) where the guest measured it, the whole read in the note', function () {
    const sustained = (l: string, nbd: number, usb: number) => ({ [`${l}NbdSustainedMiBps`]: nbd, [`${l}NbdSustainedRounds`]: [nbd], [`${l}UsbSustainedMiBps`]: usb, [`${l}UsbSustainedRounds`]: [usb] });
    const slow = [{ ...lines[0], ...link('wan100slow', 800, '6250kbit', 1600), ...reads('wan100slow', 0.5, 0.5, 1700), ...sustained('wan100slow', 0.66, 0.55) }];
    const byName = new Map(wanResults(slow).map((r) => [r.name, r]));
    const nbd = byName.get('vm.wan.default.wan100slow.nbd.link_fraction');
    assert.equal(nbd?.value, 0.89);
    assert.equal(nbd?.pass, true, '0.66 of 0.745 MiB/s sustained, though 0.5 over the whole read');
    assert.match(nbd?.note ?? '', /while each read's second half crossed it, rounds \[0\.66\]; whole reads as the reader saw them rounds \[0\.5\]/);
    assert.equal(byName.get('vm.wan.default.wan100slow.usb_disk.link_fraction')?.pass, false, '0.55 of 0.745 is 0.74');
  });

  it('no WAN rows without the scenarios; a failed one is an error, not a zero', function () {
    assert.deepEqual(wanResults([]), []);
    assert.throws(() => wanResults([{ scenario: 'daemon-wan-default', pass: false, reason: 'Mount: Completion(111)' }]), /daemon-wan-default failed: Mount: Completion\(111\)/);
  });
});
