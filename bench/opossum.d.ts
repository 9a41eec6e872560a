declare module "opossum"
