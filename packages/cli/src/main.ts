#!/usr/bin/env node
console.log('hansa')
