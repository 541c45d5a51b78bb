#include "gateway/cursor.hpp"
