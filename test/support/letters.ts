// Letters whose content says who wrote them and in which order, so a reader can tell a letter
// that is intact from one that was cut or mixed with another.
import type { DeadLetter } from "../../src/index.ts"

/** The padding of letter `seq` of `writer`: `bytes` characters, different for every letter. */
export const padding = (writer: string, seq: number, bytes: number): string => {
  const unit = `${writer}:${seq};`
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes)
}

export const makeLetter = (writer: string, seq: number, bytes: number): DeadLetter.Letter => ({
  operation: `${writer}-${seq}`,
  error: { _tag: "RetriesExhausted", message: `gave up on ${writer}-${seq}`, kind: "Server" },
  attempts: 3,
  firstAttemptAt: seq,
  lastAttemptAt: seq + 1,
  tags: { writer, seq: String(seq), pad: padding(writer, seq, bytes) }
})

/** Whether a letter read back is exactly the one written under its operation name. */
export const isIntact = (letter: DeadLetter.Letter): boolean => {
  const { writer, seq, pad } = letter.tags
  if (writer === undefined || seq === undefined || pad === undefined) return false
  const expected = makeLetter(writer, Number(seq), pad.length)
  return JSON.stringify(expected) === JSON.stringify(letter)
}
