// The Discovery v5 crawl needs UDP, which a browser has not: the app finds nodes through the
// invite code's and the manifest's URLs (and the user's own), with discv5 turned off.
export async function lookupEnrs(): Promise<never> {
  throw new Error('Discovery v5 needs UDP, which a browser cannot use')
}
