const labels: Record<string, string> = { motion: "Motion", person: "Person", pet: "Pet", vehicle: "Vehicle" }

export const labelText = (label: string): string => labels[label] ?? "Event"

export function timeText(ms: number, now = Date.now()): string {
  const d = new Date(ms)
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
  const today = new Date(now).toDateString() === d.toDateString()
  return today ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`
}

export function durationText(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000))
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}
