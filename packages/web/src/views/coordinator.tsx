export function CoordinatorView() {
  return <p>Coordinator</p>
}
