// @hansa/client
export {}
