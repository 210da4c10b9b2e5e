// Stacked bars over time with uPlot: phone calls per channel per day or
// week. uPlot draws series in order, so each series holds the running total
// up to its channel and the tallest is drawn first; the legend shows each
// channel's own count.

import uPlot from "uplot";

export interface Stack {
  label: string;
  color: string;
  values: number[];
}

const DAY = 86400;

/** stackedBars draws into el and redraws on resize; the returned function removes it. */
export function stackedBars(el: HTMLElement, days: string[], stacks: Stack[], grain: "day" | "week"): () => void {
  const x = days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
  const cum: number[][] = [];
  stacks.forEach((s, i) => cum.push(s.values.map((v, j) => v + (i ? cum[i - 1][j] : 0))));
  const top = cum.length ? Math.max(1, ...cum[cum.length - 1]) : 1;
  const half = ((grain === "week" ? 7 : 1) * DAY) / 2;
  const order = stacks.map((_, i) => i).reverse(); // tallest (the sum) first
  const totals = stacks.map((s) => s.values.reduce((a, b) => a + b, 0));
  const bars = uPlot.paths.bars!({ size: [0.7, 48], align: 0 });

  const opts: uPlot.Options = {
    width: Math.max(280, el.clientWidth),
    height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: {
      x: { time: true, range: (_u, min, max) => [min - half, max + half] },
      y: { range: () => [0, Math.ceil(top * 1.1)] },
    },
    axes: [
      { stroke: "#4b5563", grid: { show: false }, ticks: { show: false } },
      { stroke: "#4b5563", grid: { stroke: "#e5e7eb" }, ticks: { show: false }, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) },
    ],
    series: [
      { label: grain === "week" ? "Week of" : "Day", value: (_u, v) => (v == null ? "all" : new Date(v * 1000).toISOString().slice(0, 10)) },
      ...order.map((i) => ({
        label: stacks[i].label,
        stroke: stacks[i].color,
        fill: stacks[i].color,
        width: 0,
        paths: bars,
        points: { show: false },
        // The channel's own count on the hovered bar, else over the period.
        value: (_u: uPlot, _v: number | null, _si: number, di: number | null) => String(di == null ? totals[i] : stacks[i].values[di]),
      })),
    ],
  };
  const plot = new uPlot(opts, [x, ...order.map((i) => cum[i])] as uPlot.AlignedData, el);
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, el.clientWidth);
    if (w !== plot.width) plot.setSize({ width: w, height: 240 });
  });
  ro.observe(el);
  return () => {
    ro.disconnect();
    plot.destroy();
  };
}
