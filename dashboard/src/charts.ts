import { IBin, IPassRate } from './api';
import { formatPoints } from './table';

const SVG = 'http://www.w3.org/2000/svg';

function element<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: { [key: string]: string | number } = {},
  text?: string
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, String(value));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function chart(className: string, width: number, height: number, label: string): SVGSVGElement {
  const svg = element('svg', {
    class: className,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': label
  });
  svg.appendChild(element('title', {}, label));
  return svg;
}

/** Geometry of the histogram (pixels). */
export const HISTOGRAM = { width: 420, height: 200, left: 36, right: 10, top: 14, bottom: 34 };

/**
 * `svg.grader-histogram`: one bar per bin of total scores (the server's bins, those of
 * the class report's chart), its count above it, the bins' edges below. Each bar is a
 * `rect.grader-histogram-bar` with `data-count`, `data-low`, `data-high`.
 */
export function histogramSvg(bins: readonly IBin[], maxScore: number): SVGSVGElement {
  const { width, height, left, right, top, bottom } = HISTOGRAM;
  const total = bins.reduce((sum, bin) => sum + bin.count, 0);
  const svg = chart(
    'grader-histogram',
    width,
    height,
    `Histogram of total scores (of ${formatPoints(maxScore)}): ${total} submissions`
  );
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const highest = Math.max(1, ...bins.map(bin => bin.count));
  const barWidth = bins.length ? plotWidth / bins.length : plotWidth;
  bins.forEach((bin, index) => {
    const barHeight = (bin.count / highest) * plotHeight;
    const x = left + index * barWidth;
    const y = top + plotHeight - barHeight;
    const bar = element('rect', {
      class: 'grader-histogram-bar',
      x: x + 1,
      y,
      width: Math.max(barWidth - 2, 1),
      height: barHeight,
      'data-count': bin.count,
      'data-low': bin.low,
      'data-high': bin.high
    });
    const range = `${formatPoints(bin.low)}–${formatPoints(bin.high)}`;
    bar.appendChild(
      element('title', {}, `${range}: ${bin.count} submission${bin.count === 1 ? '' : 's'}`)
    );
    svg.appendChild(bar);
    if (bin.count) {
      svg.appendChild(
        element(
          'text',
          { class: 'grader-chart-value', x: x + barWidth / 2, y: y - 3, 'text-anchor': 'middle' },
          String(bin.count)
        )
      );
    }
    if (index % 2 === 0 || bins.length <= 5) {
      svg.appendChild(
        element(
          'text',
          {
            class: 'grader-chart-tick',
            x,
            y: top + plotHeight + 14,
            'text-anchor': 'middle'
          },
          formatPoints(bin.low)
        )
      );
    }
  });
  if (bins.length) {
    svg.appendChild(
      element(
        'text',
        {
          class: 'grader-chart-tick',
          x: left + plotWidth,
          y: top + plotHeight + 14,
          'text-anchor': 'middle'
        },
        formatPoints(bins[bins.length - 1].high)
      )
    );
  }
  svg.appendChild(
    element('line', {
      class: 'grader-chart-axis',
      x1: left,
      x2: left + plotWidth,
      y1: top + plotHeight,
      y2: top + plotHeight
    })
  );
  svg.appendChild(
    element(
      'text',
      { class: 'grader-chart-label', x: left + plotWidth / 2, y: height - 4, 'text-anchor': 'middle' },
      `total score (of ${formatPoints(maxScore)})`
    )
  );
  svg.appendChild(
    element(
      'text',
      { class: 'grader-chart-tick', x: left - 6, y: top + 4, 'text-anchor': 'end' },
      String(highest)
    )
  );
  svg.appendChild(
    element(
      'text',
      { class: 'grader-chart-tick', x: left - 6, y: top + plotHeight, 'text-anchor': 'end' },
      '0'
    )
  );
  return svg;
}

/** Geometry of the pass-rate chart (pixels; the label column grows with the names). */
export const PASS_RATE = { row: 22, bar: 200, top: 8, bottom: 8, charWidth: 7, percent: 44 };

/**
 * `svg.grader-pass-rate`: one horizontal bar per exercise, in assignment order, its
 * share of the graded submissions that passed it. Each row is a
 * `g.grader-pass-rate-row` with `data-exercise` and `data-rate` (0..1); its filled bar
 * is a `rect.grader-pass-rate-bar` whose width is the rate.
 */
export function passRateSvg(rates: readonly IPassRate[]): SVGSVGElement {
  const { row, bar, top, bottom, charWidth, percent } = PASS_RATE;
  const labelWidth = 12 + charWidth * Math.max(4, ...rates.map(r => r.exercise.length));
  const width = labelWidth + bar + percent;
  const height = top + bottom + row * Math.max(rates.length, 1);
  const svg = chart(
    'grader-pass-rate',
    width,
    height,
    `Pass rate per exercise: ${rates.length} exercises`
  );
  rates.forEach((rate, index) => {
    const y = top + index * row;
    const share = Math.min(Math.max(rate.rate, 0), 1);
    const group = element('g', {
      class: 'grader-pass-rate-row',
      'data-exercise': rate.exercise,
      'data-rate': rate.rate
    });
    group.appendChild(
      element('title', {}, `${rate.exercise}: ${Math.round(share * 100)}% passed`)
    );
    group.appendChild(
      element(
        'text',
        { class: 'grader-chart-label', x: labelWidth - 8, y: y + row / 2 + 4, 'text-anchor': 'end' },
        rate.exercise
      )
    );
    group.appendChild(
      element('rect', {
        class: 'grader-pass-rate-track',
        x: labelWidth,
        y: y + 3,
        width: bar,
        height: row - 6
      })
    );
    group.appendChild(
      element('rect', {
        class: 'grader-pass-rate-bar',
        x: labelWidth,
        y: y + 3,
        width: share * bar,
        height: row - 6
      })
    );
    group.appendChild(
      element(
        'text',
        { class: 'grader-chart-value', x: labelWidth + bar + 6, y: y + row / 2 + 4 },
        `${Math.round(share * 100)}%`
      )
    );
    svg.appendChild(group);
  });
  return svg;
}
