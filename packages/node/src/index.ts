// @hansa/node
export {}
