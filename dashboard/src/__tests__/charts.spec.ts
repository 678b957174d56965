import { IBin, IPassRate } from '../api';
import { HISTOGRAM, histogramSvg, PASS_RATE, passRateSvg } from '../charts';

const BINS: IBin[] = Array.from({ length: 10 }, (_, i) => ({
  low: i * 10,
  high: (i + 1) * 10,
  count: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0][i] + (i === 9 ? 4 : 0) + (i === 8 ? 2 : 0)
}));

describe('histogramSvg', () => {
  const svg = histogramSvg(BINS, 100);
  const bars = Array.from(svg.querySelectorAll('rect.grader-histogram-bar'));

  it('is an svg.grader-histogram with one bar per bin', () => {
    expect(svg.tagName.toLowerCase()).toBe('svg');
    expect(svg.getAttribute('class')).toBe('grader-histogram');
    expect(svg.getAttribute('role')).toBe('img');
    expect(bars).toHaveLength(10);
    expect(bars.map(b => Number(b.getAttribute('data-count')))).toEqual([
      1, 0, 0, 0, 0, 0, 0, 0, 2, 4
    ]);
  });

  it('draws heights in proportion to the counts, the highest full', () => {
    const plot = HISTOGRAM.height - HISTOGRAM.top - HISTOGRAM.bottom;
    const heights = bars.map(b => Number(b.getAttribute('height')));
    expect(heights[9]).toBeCloseTo(plot);
    expect(heights[8]).toBeCloseTo(plot / 2);
    expect(heights[0]).toBeCloseTo(plot / 4);
    expect(heights[1]).toBe(0);
    // bars stand on the axis
    bars.forEach((b, i) => {
      expect(Number(b.getAttribute('y')) + heights[i]).toBeCloseTo(HISTOGRAM.top + plot);
    });
  });

  it('says what it shows, in text', () => {
    expect(svg.querySelector('title')!.textContent).toContain('7 submissions');
    const labels = Array.from(svg.querySelectorAll('text')).map(t => t.textContent);
    expect(labels).toContain('total score (of 100)');
    expect(labels).toContain('100');
    expect(bars[9].querySelector('title')!.textContent).toBe('90–100: 4 submissions');
  });

  it('draws an empty batch without dividing by zero', () => {
    const empty = histogramSvg(
      BINS.map(b => ({ ...b, count: 0 })),
      100
    );
    const heights = Array.from(empty.querySelectorAll('rect')).map(r => r.getAttribute('height'));
    expect(heights.every(h => h === '0')).toBe(true);
  });
});

describe('passRateSvg', () => {
  const RATES: IPassRate[] = [
    { exercise: 'first', rate: 1, passed: 3, mean_points: 5, max_score: 5 },
    { exercise: 'second_exercise', rate: 2 / 3, passed: 2, mean_points: 3, max_score: 5 },
    { exercise: 'third', rate: 0, passed: 0, mean_points: 0, max_score: 5 }
  ];
  const svg = passRateSvg(RATES);
  const rows = Array.from(svg.querySelectorAll('g.grader-pass-rate-row'));

  it('is an svg.grader-pass-rate with one row per exercise, in order', () => {
    expect(svg.getAttribute('class')).toBe('grader-pass-rate');
    expect(rows.map(r => r.getAttribute('data-exercise'))).toEqual([
      'first',
      'second_exercise',
      'third'
    ]);
    expect(rows.map(r => r.querySelector('text')!.textContent)).toEqual([
      'first',
      'second_exercise',
      'third'
    ]);
  });

  it('fills each bar to its rate, with the percentage beside it', () => {
    const widths = rows.map(r =>
      Number(r.querySelector('rect.grader-pass-rate-bar')!.getAttribute('width'))
    );
    expect(widths[0]).toBeCloseTo(PASS_RATE.bar);
    expect(widths[1]).toBeCloseTo((PASS_RATE.bar * 2) / 3);
    expect(widths[2]).toBe(0);
    const percents = rows.map(r => r.querySelectorAll('text')[1].textContent);
    expect(percents).toEqual(['100%', '67%', '0%']);
  });

  it('grows with the longest name and the number of exercises', () => {
    const width = Number(svg.getAttribute('width'));
    const short = passRateSvg([RATES[0]]);
    expect(width).toBeGreaterThan(Number(short.getAttribute('width')));
    expect(Number(svg.getAttribute('height'))).toBe(
      PASS_RATE.top + PASS_RATE.bottom + 3 * PASS_RATE.row
    );
  });
});
