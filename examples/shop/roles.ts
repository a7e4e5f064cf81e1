/** Who is who in the shop (when STRATA_AUTH=on): clerks run the catalogue, customers order, the fulfilment saga's service account (admin) reserves stock and confirms. */
export const staff = ['clerk', 'admin'];
export const everyone = ['customer', 'clerk', 'admin'];
