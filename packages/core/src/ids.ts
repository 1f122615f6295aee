const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Users, orders and events use UUIDs; anything else cannot exist, so it is not looked up. */
export const isUuid = (id: string): boolean => UUID.test(id);

/** Catalog ids are MongoDB ObjectIds as 24 hex characters. */
export const isObjectIdHex = (id: string): boolean => OBJECT_ID.test(id);
