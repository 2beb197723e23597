/** The error of a replay asked for a position the log has not reached (the API and `replay --log` say the same). */
export function pastTheEnd(position: number, last: number): string {
  return `position ${position} is past the end of the event log: its last position is ${last}`;
}

/** The note of a replay asked for a time after the log's last event: the state shown is the log's end. */
export function afterTheEnd(time: string, last: { readonly position: number; readonly time: string }): string {
  return `${time} is after the last event of the log (position ${last.position} at ${last.time}): showing the state at its end`;
}
