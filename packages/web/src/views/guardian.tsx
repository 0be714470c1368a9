export function GuardianView() {
  return <p>Guardian</p>
}
