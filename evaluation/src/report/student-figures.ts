/**
 * The student project's published figures (its one table: 100 ILSVRC2012 validation images per
 * packet-loss rate, a 100 Mbit/s link), and the figures of its README the yardsticks quote.
 */
export const STUDENT_LOSS_TABLE: { loss: number; goodput: number }[] = [
  { loss: 0, goodput: 21.1 },
  { loss: 0.13, goodput: 10.6 },
  { loss: 0.33, goodput: 5.6 },
  { loss: 0.4, goodput: 2.44 },
  { loss: 0.47, goodput: 1.45 },
  { loss: 0.53, goodput: 1.11 },
  { loss: 0.6, goodput: 0.41 },
]

export const STUDENT = {
  accuracy: 0.73,
  avgExecutionS: [3.0, 3.3] as const,
  uploadsPerS: 21,
  classificationsPerS: 1.3,
  dispatchTickMs: 500,
  deadWorkerResetS: 10,
}

/** The published goodput at `loss`, if the table has that rate (to 0.005). */
export const publishedGoodput = (loss: number): number | null =>
  STUDENT_LOSS_TABLE.find((r) => Math.abs(r.loss - loss) < 0.005)?.goodput ?? null
