"""Memory planning: tensor lifetimes, kernel scratch, arena placement and the plan checker."""
